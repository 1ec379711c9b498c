"""The agent's home page: the catalog by star level and the lesson to resume."""
