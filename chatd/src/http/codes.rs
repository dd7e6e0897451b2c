//! `/codes.js`: chatcore's stable error and bye codes as a module of the
//! page, written from chatcore's own lists ([`chatcore::ERROR_CODES`],
//! [`chatcore::BYE_CODES`]) when it is first asked for. The page names a
//! code only through it, so a code chatcore renames or drops fails on the
//! page, and the page's tests (in `page`) fail first, instead of the page
//! comparing against a string no server sends.

use std::fmt::Write as _;
use std::sync::LazyLock;

/// The module's source, written once.
pub(super) static MODULE: LazyLock<String> = LazyLock::new(module);

// Looking up a name that is not a code throws, where a plain object would
// answer `undefined` and a misspelled check would quietly never match.
const PREAMBLE: &str = "\
// chatcore's stable codes, written by chatd from chatcore's own lists.
// `errors.NAME` and `byes.NAME` are the code NAME; a NAME that is not one
// throws instead of giving undefined.
function codes(kind, names) {
  const known = Object.freeze(Object.fromEntries(names.map((name) => [name, name])));
  return new Proxy(known, {
    get(target, name) {
      if (typeof name === 'string' && !Object.hasOwn(target, name)) {
        throw new Error(`chatd sends no ${kind} code ${name}`);
      }
      return Reflect.get(target, name);
    },
  });
}
";

fn module() -> String {
    let errors = chatcore::ERROR_CODES.iter().map(|error| error.code);
    let busy = chatcore::ERROR_CODES.iter().filter(|error| error.busy).map(|error| error.code);
    let byes = chatcore::BYE_CODES.iter().map(|bye| bye.code);
    let mut source = PREAMBLE.to_owned();
    source.push_str("\n// The codes of `error` objects: a refused request.\n");
    let _ = writeln!(source, "export const errors = codes('error', {});", array(errors));
    source.push_str(
        "\n// The errors that mean the server put a request off without judging it:\n\
         // the same request, sent again in a moment, may be taken.\n",
    );
    let _ = writeln!(source, "export const busyErrors = Object.freeze({});", array(busy));
    source.push_str("\n// The codes of `bye` objects: why the server is closing the connection.\n");
    let _ = writeln!(source, "export const byes = codes('bye', {});", array(byes));
    source
}

/// A JavaScript array of the codes, as strings. chatcore's codes are
/// lowercase ASCII letters, digits and underscores, so nothing needs escaping.
fn array<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = codes.map(|code| format!("'{code}'")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_lists_every_code_once_and_marks_the_busy_ones() {
        for error in chatcore::ERROR_CODES {
            assert_eq!(MODULE.matches(&format!("'{}'", error.code)).count(), 1 + usize::from(error.busy), "{error:?}");
        }
        for bye in chatcore::BYE_CODES {
            let once = format!("'{}'", bye.code);
            let in_errors = chatcore::ERROR_CODES.iter().any(|error| error.code == bye.code);
            assert_eq!(MODULE.matches(&once).count(), 1 + usize::from(in_errors), "{bye:?}");
        }
        assert!(MODULE.contains("export const busyErrors = Object.freeze(['"), "{}", *MODULE);
    }
}
