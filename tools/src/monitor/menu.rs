//! The interactive menu of Spread's spmonitor, one input line at a time:
//! `0` status on/off per daemon, `1`-`4` define, send, review and cancel a
//! partition, `5`-`7` define, send and review flow control, `8` terminate
//! daemons, `r` reload the daemons' configuration, `9`/`q` exit. Commands that need more input prompt for it line
//! by line, so a script can drive the menu through a pipe.
//!
//! No I/O here: [`Menu::feed`] returns the text to show and the actions for
//! the caller to carry out.

use super::tables::{
    fc_map, partition_map, terminate_table, window_value, NO_PARTITION, UNCHANGED_FC,
};
use super::Daemon;
use spread_codec::{FlowControlTable, PartitionTable};

/// Something to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Ask the marked daemons for their status periodically (none: stop).
    Status(Vec<bool>),
    /// Impose this partition and keep resending it.
    Partition(Box<PartitionTable>),
    /// Send an all-zero table once and stop resending.
    CancelPartition,
    FlowControl(Box<FlowControlTable>),
    /// Send `table` to the daemons at positions `to`.
    Terminate {
        table: Box<PartitionTable>,
        to: Vec<usize>,
    },
    /// Tell every daemon to reload its configuration, then read it again.
    Reload,
    Exit,
}

/// What the next input line answers.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Awaiting {
    Command,
    StatusName,
    /// The component of the daemon at this position.
    Component(usize),
    Window,
    Personal(usize),
    Accelerated(usize),
    Terminate(Vec<bool>),
}

pub const PROMPT: &str = "Monitor> ";

pub struct Menu {
    daemons: Vec<Daemon>,
    accelerated: bool,
    status: Vec<bool>,
    work_partition: PartitionTable,
    partition: PartitionTable,
    work_fc: FlowControlTable,
    fc: FlowControlTable,
    awaiting: Awaiting,
}

/// The menu text, ending with the prompt.
pub fn menu_text() -> String {
    [
        "",
        "=============",
        "Monitor Menu:",
        "-------------",
        "\t0. Activate/Deactivate Status {all, none, Proc, CR}",
        "",
        "\t1. Define Partition",
        "\t2. Send   Partition",
        "\t3. Review Partition",
        "\t4. Cancel Partition Effects",
        "",
        "\t5. Define Flow Control",
        "\t6. Send   Flow Control",
        "\t7. Review Flow Control",
        "",
        "\t8. Terminate Spread Daemons {all, none, Proc, CR}",
        "",
        "\tr. Reload Configuration File",
        "",
        "\t9. Exit",
        "",
        PROMPT,
    ]
    .join("\n")
}

impl Menu {
    pub fn new(daemons: Vec<Daemon>, accelerated: bool) -> Menu {
        let n = daemons.len();
        Menu {
            daemons,
            accelerated,
            status: vec![false; n],
            work_partition: NO_PARTITION,
            partition: NO_PARTITION,
            work_fc: UNCHANGED_FC,
            fc: UNCHANGED_FC,
            awaiting: Awaiting::Command,
        }
    }

    /// The partition last sent (and not cancelled).
    pub fn partition(&self) -> &PartitionTable {
        &self.partition
    }

    /// Takes one line of input (without its newline).
    pub fn feed(&mut self, line: &str) -> (String, Vec<Action>) {
        let word = line.trim();
        match std::mem::replace(&mut self.awaiting, Awaiting::Command) {
            Awaiting::Command => self.command(word),
            Awaiting::StatusName => self.status_name(word),
            Awaiting::Component(i) => self.component(i, word),
            Awaiting::Window => match fc_number(word) {
                Some(n) => {
                    let slot = self.daemons.len();
                    if let Some(e) = self.work_fc.get_mut(slot) {
                        e[0] = n;
                    }
                    self.ask(Awaiting::Personal(0))
                }
                None => self.ask_after("Please enter a number\n", Awaiting::Window),
            },
            Awaiting::Personal(i) => match fc_number(word) {
                Some(n) => {
                    self.work_fc[i][0] = n;
                    let next = if self.accelerated {
                        Awaiting::Accelerated(i)
                    } else {
                        Awaiting::Personal(i + 1)
                    };
                    self.next_fc(next)
                }
                None => self.ask_after("Please enter a number\n", Awaiting::Personal(i)),
            },
            Awaiting::Accelerated(i) => match fc_number(word) {
                Some(n) => {
                    self.work_fc[i][1] = n;
                    self.next_fc(Awaiting::Personal(i + 1))
                }
                None => self.ask_after("Please enter a number\n", Awaiting::Accelerated(i)),
            },
            Awaiting::Terminate(killed) => self.terminate_name(killed, word),
        }
    }

    fn command(&mut self, word: &str) -> (String, Vec<Action>) {
        let done = |text: String, actions| (text + "\n" + PROMPT, actions);
        match word {
            "" => (PROMPT.into(), Vec::new()),
            "0" => self.ask_after(
                "\nActivate Status (a name, all or none; an empty line ends)\n\n",
                Awaiting::StatusName,
            ),
            "1" => self.ask_after(
                "\nDefine Partition (a component number per daemon)\n\n",
                Awaiting::Component(0),
            ),
            "2" => {
                self.partition = self.work_partition;
                done(
                    "Partition sent; it is resent every 25 s until cancelled (4).\n".into(),
                    vec![Action::Partition(Box::new(self.partition))],
                )
            }
            "3" => done(partition_map(&self.partition, &self.daemons), Vec::new()),
            "4" => {
                self.partition = NO_PARTITION;
                self.work_partition = NO_PARTITION;
                done(
                    "Partition cancelled.\n".into(),
                    vec![Action::CancelPartition],
                )
            }
            "5" => self.ask_after(
                "\nDefine Flow Control (a number, or an empty line to leave a value unchanged)\n\n",
                Awaiting::Window,
            ),
            "6" => {
                self.fc = self.work_fc;
                done(
                    "Flow control sent.\n".into(),
                    vec![Action::FlowControl(Box::new(self.fc))],
                )
            }
            "7" => done(
                fc_map(&self.fc, &self.daemons, self.accelerated),
                Vec::new(),
            ),
            "8" => self.ask(Awaiting::Terminate(vec![false; self.daemons.len()])),
            "9" | "q" => ("Bye.\n".into(), vec![Action::Exit]),
            "r" => done("Reload Membership. \n".into(), vec![Action::Reload]),
            _ => ("\nUnknown command\n".to_string() + &menu_text(), Vec::new()),
        }
    }

    fn status_name(&mut self, word: &str) -> (String, Vec<Action>) {
        if word.is_empty() {
            return (
                format!("\n{PROMPT}"),
                vec![Action::Status(self.status.clone())],
            );
        }
        let why = mark(&mut self.status, word, &self.daemons).err();
        self.ask_after(why.as_deref().unwrap_or(""), Awaiting::StatusName)
    }

    fn terminate_name(&mut self, mut killed: Vec<bool>, word: &str) -> (String, Vec<Action>) {
        if word.is_empty() {
            let to: Vec<usize> = (0..killed.len()).filter(|&i| killed[i]).collect();
            let mut text = String::new();
            for &i in &to {
                text += &format!("Terminating {}\n", self.daemons[i].name);
            }
            let actions = if to.is_empty() {
                Vec::new()
            } else {
                vec![Action::Terminate {
                    table: Box::new(terminate_table(&self.partition, &killed)),
                    to,
                }]
            };
            return (text + "\n" + PROMPT, actions);
        }
        let why = mark(&mut killed, word, &self.daemons).err();
        self.ask_after(why.as_deref().unwrap_or(""), Awaiting::Terminate(killed))
    }

    fn component(&mut self, i: usize, word: &str) -> (String, Vec<Action>) {
        let Ok(c) = word.parse::<i16>() else {
            return self.ask_after("Please enter a number\n", Awaiting::Component(i));
        };
        self.work_partition[i] = c;
        if i + 1 < self.daemons.len() {
            return self.ask(Awaiting::Component(i + 1));
        }
        (
            partition_map(&self.work_partition, &self.daemons) + PROMPT,
            Vec::new(),
        )
    }

    fn next_fc(&mut self, next: Awaiting) -> (String, Vec<Action>) {
        match next {
            Awaiting::Personal(i) if i >= self.daemons.len() => (
                fc_map(&self.work_fc, &self.daemons, self.accelerated) + PROMPT,
                Vec::new(),
            ),
            next => self.ask(next),
        }
    }

    /// Prompts for `what` and waits for it.
    fn ask(&mut self, what: Awaiting) -> (String, Vec<Action>) {
        let text = self.prompt_for(&what);
        self.awaiting = what;
        (text, Vec::new())
    }

    /// Shows `text`, then prompts for `what`.
    fn ask_after(&mut self, text: &str, what: Awaiting) -> (String, Vec<Action>) {
        let (prompt, actions) = self.ask(what);
        (text.to_string() + &prompt, actions)
    }

    fn prompt_for(&self, what: &Awaiting) -> String {
        let name = |i: usize| self.daemons.get(i).map_or("", |d| d.name.as_str());
        match what {
            Awaiting::Command => PROMPT.into(),
            Awaiting::StatusName => "\tEnter Proc Name: ".into(),
            Awaiting::Component(i) => format!("\t{}\t", name(*i)),
            Awaiting::Window => "    Window size: ".into(),
            Awaiting::Personal(i) => format!("\t{} personal window\t", name(*i)),
            Awaiting::Accelerated(i) => format!("\t{} accelerated window\t", name(*i)),
            Awaiting::Terminate(_) => "\tEnter Proc Name to Terminate: ".into(),
        }
    }
}

/// Marks `all`, `none` or one named daemon.
fn mark(marks: &mut [bool], word: &str, daemons: &[Daemon]) -> Result<(), String> {
    match word {
        "all" => marks.fill(true),
        "none" => marks.fill(false),
        name => match daemons.iter().position(|d| d.name == name) {
            Some(i) => marks[i] = true,
            None => return Err("Please enter a legal proc name, none, or all\n".into()),
        },
    }
    Ok(())
}

/// A flow-control entry: a window size, or −1 (unchanged) for an empty line.
fn fc_number(word: &str) -> Option<i16> {
    if word.is_empty() || word == "-1" {
        return Some(-1);
    }
    window_value(word).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu(accelerated: bool) -> Menu {
        let daemons = ["d1", "d2", "d3"]
            .iter()
            .enumerate()
            .map(|(i, n)| Daemon {
                name: n.to_string(),
                id: i as u32 + 1,
                addr: "127.0.0.1:4803".parse().unwrap(),
                segment: 0,
            })
            .collect();
        Menu::new(daemons, accelerated)
    }

    /// Feeds every line; returns all text and all actions.
    fn run(m: &mut Menu, lines: &[&str]) -> (String, Vec<Action>) {
        let mut text = String::new();
        let mut actions = Vec::new();
        for l in lines {
            let (t, a) = m.feed(l);
            text += &t;
            actions.extend(a);
        }
        (text, actions)
    }

    #[test]
    fn define_send_review_and_cancel_a_partition() {
        let mut m = menu(false);
        let (text, actions) = run(&mut m, &["1", "1", "x", "1", "2"]);
        assert!(actions.is_empty());
        assert!(
            text.contains("\td1\t\td2\tPlease enter a number\n\td2\t\td3\t"),
            "{text:?}"
        );
        assert!(text.contains("\td3\t2\n"), "{text:?}");
        let (_, actions) = run(&mut m, &["2"]);
        let mut want = NO_PARTITION;
        want[..3].copy_from_slice(&[1, 1, 2]);
        assert_eq!(actions, [Action::Partition(Box::new(want))]);
        let (text, _) = run(&mut m, &["3"]);
        assert!(text.contains("\td1\t1\n\td2\t1\n\td3\t2\n"), "{text:?}");
        let (_, actions) = run(&mut m, &["4", "3"]);
        assert_eq!(actions, [Action::CancelPartition]);
        assert_eq!(m.partition(), &NO_PARTITION);
    }

    #[test]
    fn status_names_and_termination() {
        let mut m = menu(false);
        let (text, actions) = run(&mut m, &["0", "d2", "d7", "d3", ""]);
        assert!(text.contains("legal proc name"), "{text:?}");
        assert_eq!(actions, [Action::Status(vec![false, true, true])]);
        let (_, actions) = run(&mut m, &["0", "all", "none", ""]);
        assert_eq!(actions, [Action::Status(vec![false; 3])]);
        run(&mut m, &["1", "1", "1", "2", "2"]);
        let (text, actions) = run(&mut m, &["8", "d3", ""]);
        assert!(text.contains("Terminating d3"), "{text:?}");
        let mut table = NO_PARTITION;
        table[..3].copy_from_slice(&[1, 1, -1]);
        assert_eq!(
            actions,
            [Action::Terminate {
                table: Box::new(table),
                to: vec![2]
            }]
        );
        let (_, actions) = run(&mut m, &["8", ""]);
        assert!(actions.is_empty(), "nobody named, nothing sent");
    }

    #[test]
    fn flow_control_with_unchanged_entries() {
        let mut m = menu(true);
        let (text, _) = run(&mut m, &["5", "80", "10", "", "", "x", "", "5", "3"]);
        assert!(
            text.contains("\td2 accelerated window\tPlease enter a number"),
            "{text:?}"
        );
        let (_, actions) = run(&mut m, &["6"]);
        let mut want = UNCHANGED_FC;
        want[0] = [10, -1];
        want[2] = [5, 3];
        want[3] = [80, -1];
        assert_eq!(actions, [Action::FlowControl(Box::new(want))]);
        let (text, _) = run(&mut m, &["7"]);
        assert!(text.contains("Window size:  80") && text.contains("\td3 personal window\t5\n"));
    }

    #[test]
    fn exit_and_unknown_commands() {
        let mut m = menu(false);
        let (text, actions) = run(&mut m, &["z"]);
        assert!(text.contains("Unknown command") && text.contains("9. Exit"));
        assert!(actions.is_empty());
        assert_eq!(m.feed("q").1, [Action::Exit]);
        assert_eq!(m.feed("9").1, [Action::Exit]);
    }
}
