"""Standard times, track variants, speed/ten/agari indexes and point-in-time features."""
