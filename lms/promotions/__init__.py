"""The star ladder in use: each agent's checklist to the next star, the ready list, confirm and decline."""
