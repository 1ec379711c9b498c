"""The trainer's workspace (/workspace): where a trainer lands. What waits for them (essays to
mark, attendance to close), today's and this week's classroom sessions, the exams open now, the
question banks edited lately, and the quick ways to author more."""
