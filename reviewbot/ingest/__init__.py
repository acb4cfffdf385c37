"""Every input becomes a Series: mail, git and diff front ends."""
