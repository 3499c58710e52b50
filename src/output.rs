//! What the commands print: one line to standard output, where a reader that went away early
//! (`scale … | head`) ends the output quietly instead of a panic (`println!` panics on a broken
//! pipe).

use std::fmt::Display;
use std::io::{ErrorKind, Write};

/// Prints `text` and a newline.
pub fn print(text: impl Display) -> std::io::Result<()> {
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(err) if err.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn printing_a_line_succeeds() {
        super::print("scale").unwrap();
    }
}
