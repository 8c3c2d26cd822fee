//! The examples at the end of each command's long help (`iofs-ledger COMMAND --help`).
//! Each is a command that works on the built-in history or a ledger made by `init`.

/// After `iofs-ledger --help`.
pub const TOP: &str = "\
Examples:
  iofs-ledger state --as-of 2020                 the state at the end of 2020
  iofs-ledger history 'saudi arabia'             a party's timeline, by name or code
  iofs-ledger init && iofs-ledger verify         create a ledger file, then check it";

/// `init`.
pub const INIT: &str = "\
Examples:
  iofs-ledger init                               the built-in history in ./iofs-ledger.db
  iofs-ledger --db copy.db init --empty          an empty ledger, to append an export into
  iofs-ledger init --json                        a receipt for scripts";

/// `append`.
pub const APPEND: &str = "\
Examples:
  iofs-ledger append brunei.jsonl --expect-head 134
  iofs-ledger export | iofs-ledger --db copy.db append -
  iofs-ledger append events.json --json          a receipt: first_seq, last_seq, count, head";

/// `state`.
pub const STATE: &str = "\
Examples:
  iofs-ledger state                              today (UTC)
  iofs-ledger state --as-of 2019-06              the end of June 2019
  iofs-ledger state --as-of 2019 --known-at 2026-03-01 --json";

/// `members`.
pub const MEMBERS: &str = "\
Examples:
  iofs-ledger members --as-of 2023-10-02
  iofs-ledger members --as-of 2016 --format csv > members-2016.csv";

/// `log`.
pub const LOG: &str = "\
Examples:
  iofs-ledger log --after 130
  iofs-ledger log --json | jq -c 'select(.type == \"statute_signed\")'
  iofs-ledger log --format csv > log.csv";

/// `history`.
pub const HISTORY: &str = "\
Examples:
  iofs-ledger history LBY
  iofs-ledger history \"Cote d'Ivoire\"
  iofs-ledger history nigeria --format csv";

/// `verify`.
pub const VERIFY: &str = "\
Examples:
  iofs-ledger verify
  iofs-ledger verify --since-head 134:da49c6361b61c12756d8bd6f290690ee6c08eec3ff0e01b1064320e834a3d4e4";

/// `head`.
pub const HEAD: &str = "\
Examples:
  iofs-ledger head                               SEQ:HASH, to note somewhere else
  iofs-ledger head --known-at 2026-03-01 --json";

/// `rebuild`.
pub const REBUILD: &str = "\
Examples:
  iofs-ledger rebuild
  iofs-ledger rebuild --json && iofs-ledger verify";

/// `export`.
pub const EXPORT: &str = "\
Examples:
  iofs-ledger export > log.jsonl
  iofs-ledger export --known-at 2026-03-01 > as-known-then.jsonl";

/// `diff`.
pub const DIFF: &str = "\
Examples:
  iofs-ledger diff --from 2023 --to 2024         1 January 2023 to 31 December 2024
  iofs-ledger diff --from 2016-01-01 --to 2018-02-19 --format csv";

/// `audit`.
pub const AUDIT: &str = "\
Examples:
  iofs-ledger audit
  iofs-ledger audit --summary
  iofs-ledger audit --json | jq '.claims[] | select(.holds == false)'";

/// `meetings`.
pub const MEETINGS: &str = "\
Examples:
  iofs-ledger meetings --from 2023 --to 2024
  iofs-ledger meetings --format csv > meetings.csv";

/// `years`.
pub const YEARS: &str = "\
Examples:
  iofs-ledger years --from 2013 --to 2024
  iofs-ledger years --from 2013 --to 2024 --format csv";

/// `officers`.
pub const OFFICERS: &str = "\
Examples:
  iofs-ledger officers
  iofs-ledger officers --known-at 2026-03-01 --json";

/// `parties`.
pub const PARTIES: &str = "\
Examples:
  iofs-ledger parties
  iofs-ledger parties --format csv";

/// `completions`.
pub const COMPLETIONS: &str = "\
Examples:
  iofs-ledger completions bash > ~/.local/share/bash-completion/completions/iofs-ledger
  iofs-ledger completions zsh > \"${fpath[1]}/_iofs-ledger\"
  iofs-ledger completions fish > ~/.config/fish/completions/iofs-ledger.fish";

/// `man`.
pub const MAN: &str = "\
Examples:
  iofs-ledger man > iofs-ledger.1 && man ./iofs-ledger.1
  iofs-ledger man | gzip > /usr/local/share/man/man1/iofs-ledger.1.gz";

/// `timeline`.
pub const TIMELINE: &str = "\
Examples:
  iofs-ledger timeline --from 2013 --to 2026 --every year
  iofs-ledger timeline --from 2016-01-01 --to 2018-12-31 --every week --format csv";

/// `report`.
pub const REPORT: &str = "\
Examples:
  iofs-ledger report --out site
  iofs-ledger report --out site --as-of 2020-12-31 --force";
