"""The Telegram channel: update translation (polling or webhook) and the outbound client."""
