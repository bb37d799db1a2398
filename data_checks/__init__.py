"""Great Expectations suites in code, and the validator that splits valid from quarantined."""
