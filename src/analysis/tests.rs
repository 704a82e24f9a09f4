//! Unit tests of the sequence analysis (filled below).
