"""Customer evaluations (客户评价): monthly satisfaction per agent, imported from CSV or XLSX into the record."""
