//! Rust source as the few tokens a module path is made of. Comments and
//! string and character literals are dropped whole, so that a `crate::` in
//! a doc comment or a message is not taken for an import.

/// One token, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) line: usize,
}

/// What a token is; everything a path cannot contain is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A name or keyword, `r#` taken off a raw identifier.
    Ident(String),
    /// `::`
    PathSep,
    /// `{`
    OpenBrace,
    /// `}`
    CloseBrace,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// `*`
    Star,
    /// `$`, which makes `$crate` in a macro.
    Dollar,
    /// `(`
    OpenParen,
    /// Any other punctuation, a number, a lifetime or a literal.
    Other,
}

/// Splits `source` into tokens.
pub(crate) fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut lexer = Lexer { chars: &chars, at: 0, line: 1, tokens: Vec::new() };
    lexer.run();
    lexer.tokens
}

struct Lexer<'a> {
    chars: &'a [char],
    at: usize,
    line: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    /// Moves past one character, counting lines.
    fn bump(&mut self) {
        if self.peek(0) == Some('\n') {
            self.line += 1;
        }
        self.at += 1;
    }

    fn push(&mut self, kind: Kind, line: usize) {
        self.tokens.push(Token { kind, line });
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            let line = self.line;
            match c {
                _ if c.is_whitespace() => self.bump(),
                '/' if self.peek(1) == Some('/') => self.line_comment(),
                '/' if self.peek(1) == Some('*') => self.block_comment(),
                '"' => {
                    self.bump();
                    self.string();
                    self.push(Kind::Other, line);
                }
                '\'' => self.quote(),
                ':' if self.peek(1) == Some(':') => {
                    self.at += 2;
                    self.push(Kind::PathSep, line);
                }
                _ if c == '_' || c.is_alphabetic() => self.word(),
                _ if c.is_ascii_digit() => {
                    // A number with its suffix (`1u8`, `0x1f`) is one token.
                    while self.peek(0).is_some_and(|c| c == '_' || c.is_alphanumeric()) {
                        self.bump();
                    }
                    self.push(Kind::Other, line);
                }
                _ => {
                    self.bump();
                    let kind = match c {
                        '{' => Kind::OpenBrace,
                        '}' => Kind::CloseBrace,
                        ',' => Kind::Comma,
                        ';' => Kind::Semi,
                        '*' => Kind::Star,
                        '$' => Kind::Dollar,
                        '(' => Kind::OpenParen,
                        _ => Kind::Other,
                    };
                    self.push(kind, line);
                }
            }
        }
    }

    fn line_comment(&mut self) {
        while self.peek(0).is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    /// A block comment, nested ones included, as Rust nests them.
    fn block_comment(&mut self) {
        self.at += 2;
        let mut depth = 1;
        while depth > 0 && self.peek(0).is_some() {
            if self.peek(0) == Some('/') && self.peek(1) == Some('*') {
                self.at += 2;
                depth += 1;
            } else if self.peek(0) == Some('*') && self.peek(1) == Some('/') {
                self.at += 2;
                depth -= 1;
            } else {
                self.bump();
            }
        }
    }

    /// The rest of a string whose opening quote was read.
    fn string(&mut self) {
        while let Some(c) = self.peek(0) {
            self.bump();
            match c {
                '\\' => self.bump(),
                '"' => return,
                _ => {}
            }
        }
    }

    /// The rest of a raw string after its `r`: `hashes` `#`, a quote, and
    /// the text up to a quote followed by as many `#`.
    fn raw_string(&mut self, hashes: usize) {
        self.at += hashes + 1;
        while self.peek(0).is_some() {
            if self.peek(0) == Some('"') && (1..=hashes).all(|n| self.peek(n) == Some('#')) {
                self.at += hashes + 1;
                return;
            }
            self.bump();
        }
    }

    /// A character literal (`'x'`, `'\n'`, `'{'`) or a lifetime (`'a`).
    fn quote(&mut self) {
        let line = self.line;
        self.bump();
        if self.peek(0) == Some('\\') {
            while let Some(c) = self.peek(0) {
                self.bump();
                if c == '\\' {
                    self.bump();
                } else if c == '\'' {
                    break;
                }
            }
        } else if self.peek(1) == Some('\'') {
            self.at += 2;
        } else {
            // A lifetime or label: its name is not a path.
            while self.peek(0).is_some_and(|c| c == '_' || c.is_alphanumeric()) {
                self.bump();
            }
        }
        self.push(Kind::Other, line);
    }

    /// A name, or a literal that starts like one (`b"..."`, `r#"..."#`,
    /// `b'x'`), or a raw identifier (`r#type`).
    fn word(&mut self) {
        let line = self.line;
        let start = self.at;
        while self.peek(0).is_some_and(|c| c == '_' || c.is_alphanumeric()) {
            self.bump();
        }
        let word: String = self.chars[start..self.at].iter().collect();
        let hashes = (0..).take_while(|&n| self.peek(n) == Some('#')).count();
        match word.as_str() {
            "r" | "br" | "cr" if self.peek(hashes) == Some('"') => {
                self.raw_string(hashes);
                self.push(Kind::Other, line);
            }
            "r" if hashes == 1 && self.peek(1).is_some_and(|c| c == '_' || c.is_alphabetic()) => {
                self.at += 1;
                let start = self.at;
                while self.peek(0).is_some_and(|c| c == '_' || c.is_alphanumeric()) {
                    self.bump();
                }
                let name = self.chars[start..self.at].iter().collect();
                self.push(Kind::Ident(name), line);
            }
            "b" | "c" if self.peek(0) == Some('"') => {
                self.bump();
                self.string();
                self.push(Kind::Other, line);
            }
            "b" if self.peek(0) == Some('\'') => self.quote(),
            _ => self.push(Kind::Ident(word), line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idents(source: &str) -> Vec<String> {
        tokenize(source)
            .into_iter()
            .filter_map(|token| match token.kind {
                Kind::Ident(name) => Some(name),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn comments_and_literals_hide_the_names_inside_them() {
        let source = r###"
            // crate::a
            /* crate::b /* nested crate::c */ crate::d */
            let s = "crate::e \" crate::f";
            let r = r#"crate::g " crate::h"#;
            let b = b"crate::i";
            let c = '"'; let d = '{'; let e = '\''; let f = b'x';
            fn g<'a>(x: &'a str) {}
            let r#type = 1;
            keep
        "###;
        assert_eq!(
            idents(source),
            [
                "let", "s", "let", "r", "let", "b", "let", "c", "let", "d", "let", "e", "let", "f", "fn", "g", "x",
                "str", "let", "type", "keep"
            ]
        );
    }

    #[test]
    fn tokens_carry_their_line() {
        let tokens = tokenize("a\n/* one\ntwo */ b\n\"x\ny\" c");
        let lines: Vec<usize> =
            tokens.iter().filter(|token| matches!(token.kind, Kind::Ident(_))).map(|token| token.line).collect();
        assert_eq!(lines, [1, 3, 5]);
    }
}
