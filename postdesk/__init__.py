"""postdesk."""
