"""DeepCorrect (Borkar & Karam): rank filters, add correction units, train."""
