"""The mentor's page: mentees, pending practicals, recent results and pass rates."""
