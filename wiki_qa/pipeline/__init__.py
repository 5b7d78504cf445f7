"""Pipeline stages: plain functions over rows. Each module is one stage."""
