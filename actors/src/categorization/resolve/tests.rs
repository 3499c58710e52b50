//! Unit tests of the resolution order.

use super::*;
