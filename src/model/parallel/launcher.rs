//! A process's rank and world size, from `--rank`/`--world-size` or from the launcher that
//! started it: torchrun (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`), Open MPI's `mpirun`
//! (`OMPI_COMM_WORLD_RANK`, `OMPI_COMM_WORLD_SIZE`, `OMPI_COMM_WORLD_LOCAL_RANK`) or Slurm's
//! `srun` (`SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`).
//!
//! Launchers nest — `srun torchrun …` sets both Slurm's variables (one task per node) and
//! torchrun's (one rank per process) — so the innermost wins: torchrun, then Open MPI, then
//! Slurm. An outer launcher's variables describe the allocation, not this process. Slurm's are
//! read only inside a job step (`SLURM_STEP_ID`, which `srun` sets): a batch script's own shell
//! also has `SLURM_PROCID` and `SLURM_NTASKS`, for the allocation, while it is one process.
//! Flags must agree with the launcher where both are given.

use crate::error::{Error, Result};

/// Where a process sits among the processes of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// This process's rank, `0 ≤ rank < world_size`.
    pub rank: u64,
    /// How many processes.
    pub world_size: u64,
    /// Its rank among the processes of its node, where the launcher says (to pick a GPU).
    pub local_rank: Option<u64>,
    /// What said so: `--rank/--world-size`, `torchrun`, `Open MPI` or `Slurm`.
    pub source: &'static str,
}

/// One launcher's variables.
#[derive(Debug, Clone, Copy)]
pub struct Variables {
    /// The launcher's name.
    pub name: &'static str,
    /// This process's rank.
    pub rank: &'static str,
    /// How many processes.
    pub world_size: &'static str,
    /// The rank within the node.
    pub local_rank: &'static str,
    /// A variable that must be set too for the others to describe this process.
    pub only_with: Option<&'static str>,
}

/// Each launcher's variables, innermost first.
pub const LAUNCHERS: [Variables; 3] = [
    Variables {
        name: "torchrun",
        rank: "RANK",
        world_size: "WORLD_SIZE",
        local_rank: "LOCAL_RANK",
        only_with: None,
    },
    Variables {
        name: "Open MPI",
        rank: "OMPI_COMM_WORLD_RANK",
        world_size: "OMPI_COMM_WORLD_SIZE",
        local_rank: "OMPI_COMM_WORLD_LOCAL_RANK",
        only_with: None,
    },
    Variables {
        name: "Slurm",
        rank: "SLURM_PROCID",
        world_size: "SLURM_NTASKS",
        local_rank: "SLURM_LOCALID",
        only_with: Some("SLURM_STEP_ID"),
    },
];

/// The launch of this process from the flags and `var` (the environment: `|name|
/// std::env::var(name).ok()`); `None` when neither says anything (one process, every rank).
pub fn detect(
    rank_flag: Option<u64>,
    world_flag: Option<u64>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<Launch>> {
    let number = |name: &str| -> Result<Option<u64>> {
        match var(name) {
            None => Ok(None),
            Some(text) => text.trim().parse().map(Some).map_err(|_| {
                Error::invalid(
                    name,
                    &text,
                    "a non-negative integer, as the launcher sets it",
                )
            }),
        }
    };
    let mut from_env = None;
    for launcher in LAUNCHERS {
        if launcher.only_with.is_some_and(|name| var(name).is_none()) {
            continue;
        }
        let (source, rank_var, world_var) = (launcher.name, launcher.rank, launcher.world_size);
        match (number(rank_var)?, number(world_var)?) {
            (None, None) => continue,
            (Some(rank), Some(world_size)) => {
                let launch = Launch {
                    rank,
                    world_size,
                    local_rank: number(launcher.local_rank)?,
                    source,
                };
                check(&launch, &format!("{rank_var}={rank} ({source})"), world_var)?;
                from_env = Some(launch);
                break;
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::invalid(
                    format!("{rank_var} and {world_var}"),
                    "only one of them set",
                    format!("both, as {source} sets them"),
                ));
            }
        }
    }
    let Some(launch) = from_env else {
        return match (rank_flag, world_flag) {
            (None, None) => Ok(None),
            (Some(rank), Some(world_size)) => {
                let launch = Launch {
                    rank,
                    world_size,
                    local_rank: None,
                    source: "--rank/--world-size",
                };
                check(&launch, &format!("--rank {rank}"), "--world-size")?;
                Ok(Some(launch))
            }
            (Some(rank), None) => Err(Error::invalid(
                "rank",
                rank,
                "given with --world-size (no launcher's variables are set)",
            )),
            (None, Some(world)) => Err(Error::invalid(
                "world-size",
                world,
                "given with --rank (no launcher's variables are set)",
            )),
        };
    };
    for (flag, given, from_launcher) in [
        ("rank", rank_flag, launch.rank),
        ("world-size", world_flag, launch.world_size),
    ] {
        if let Some(given) = given
            && given != from_launcher
        {
            return Err(Error::invalid(
                flag,
                given,
                format!("{from_launcher}, as {} says", launch.source),
            ));
        }
    }
    Ok(Some(launch))
}

/// A launch must have a rank below its world size, and a local rank at most its rank.
fn check(launch: &Launch, rank_text: &str, world_name: &str) -> Result<()> {
    if launch.world_size == 0 || launch.rank >= launch.world_size {
        return Err(Error::invalid(
            rank_text,
            launch.rank,
            format!("below the world size ({world_name}={})", launch.world_size),
        ));
    }
    if let Some(local) = launch.local_rank
        && local > launch.rank
    {
        return Err(Error::invalid(
            "local rank",
            local,
            format!("at most the rank ({rank_text})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn each_launcher_is_read() {
        let torchrun = [("RANK", "3"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1")];
        let launch = detect(None, None, env(&torchrun)).unwrap().unwrap();
        assert_eq!(
            (launch.rank, launch.world_size, launch.local_rank),
            (3, 8, Some(1))
        );
        assert_eq!(launch.source, "torchrun");
        let mpi = [("OMPI_COMM_WORLD_RANK", "2"), ("OMPI_COMM_WORLD_SIZE", "4")];
        let launch = detect(None, None, env(&mpi)).unwrap().unwrap();
        assert_eq!(
            (launch.rank, launch.world_size, launch.source),
            (2, 4, "Open MPI")
        );
        let slurm = [
            ("SLURM_PROCID", "5"),
            ("SLURM_NTASKS", "6"),
            ("SLURM_LOCALID", "1"),
            ("SLURM_STEP_ID", "0"),
        ];
        let launch = detect(None, None, env(&slurm)).unwrap().unwrap();
        assert_eq!(
            (launch.rank, launch.world_size, launch.source),
            (5, 6, "Slurm")
        );
        assert_eq!(detect(None, None, env(&[])).unwrap(), None);
        let flags = detect(Some(1), Some(2), env(&[])).unwrap().unwrap();
        assert_eq!((flags.rank, flags.world_size), (1, 2));
    }

    #[test]
    fn the_innermost_launcher_wins() {
        // srun -N 2 torchrun --nproc-per-node 4: Slurm counts nodes, torchrun processes.
        let nested = [
            ("SLURM_PROCID", "1"),
            ("SLURM_NTASKS", "2"),
            ("SLURM_STEP_ID", "0"),
            ("RANK", "6"),
            ("WORLD_SIZE", "8"),
        ];
        let launch = detect(None, None, env(&nested)).unwrap().unwrap();
        assert_eq!(
            (launch.rank, launch.world_size, launch.source),
            (6, 8, "torchrun")
        );
    }

    #[test]
    fn a_batch_scripts_allocation_is_not_a_launch() {
        // sbatch --ntasks 4 runs the script once, with the allocation's variables but no step.
        let batch = [("SLURM_PROCID", "0"), ("SLURM_NTASKS", "4")];
        assert_eq!(detect(None, None, env(&batch)).unwrap(), None);
    }

    #[test]
    fn contradictions_are_errors_naming_the_values() {
        let torchrun = [("RANK", "3"), ("WORLD_SIZE", "8")];
        let error = detect(Some(2), None, env(&torchrun))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("rank") && error.contains("torchrun"),
            "{error}"
        );
        let error = detect(None, Some(4), env(&torchrun))
            .unwrap_err()
            .to_string();
        assert!(error.contains("world-size"), "{error}");
        assert!(detect(Some(3), Some(8), env(&torchrun)).is_ok());
        let half = [("RANK", "3")];
        let error = detect(None, None, env(&half)).unwrap_err().to_string();
        assert!(error.contains("WORLD_SIZE"), "{error}");
        let beyond = [("OMPI_COMM_WORLD_RANK", "4"), ("OMPI_COMM_WORLD_SIZE", "4")];
        let error = detect(None, None, env(&beyond)).unwrap_err().to_string();
        assert!(error.contains("OMPI_COMM_WORLD_SIZE=4"), "{error}");
        let bad = [
            ("SLURM_PROCID", "x"),
            ("SLURM_NTASKS", "2"),
            ("SLURM_STEP_ID", "3"),
        ];
        assert!(
            detect(None, None, env(&bad))
                .unwrap_err()
                .to_string()
                .contains("SLURM_PROCID")
        );
        assert!(detect(Some(2), Some(2), env(&[])).is_err());
        assert!(detect(Some(0), None, env(&[])).is_err());
        let local = [("RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "1")];
        assert!(detect(None, None, env(&local)).is_err());
    }
}
