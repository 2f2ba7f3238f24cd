"""The LINE channel: webhook verification and translation, the outbound client, the rich menu."""
