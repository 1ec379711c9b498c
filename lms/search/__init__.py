"""One search box over lessons, courses and scenarios (and, for trainers, questions), in Chinese and
English, respecting star-level locks."""
