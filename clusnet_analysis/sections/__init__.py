"""One section per report area: the tables, figures, key numbers and readings that every consumer shows."""
