//! Unit tests of the global model file and inference.

use super::*;
