//! Unit tests of row settling and realignment.

use super::*;
