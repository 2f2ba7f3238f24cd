"""Questions and answers: knowledge loading and checking, matching, follow-ups, gaps."""
