"""Role-play scenarios: scripts and rubrics, rehearsal alone, and practicals signed off by mentors."""
