"""The health views as package data (`cja_sync.sql` once installed); see README.md here."""
