#ifndef CONVEYOR_CHILD_SPAWN_H
#define CONVEYOR_CHILD_SPAWN_H

#include <sys/types.h>

/// A resource limit set in the child before it runs the program (`setrlimit`).
typedef struct {
    int resource;
    unsigned long long soft;
    unsigned long long hard;
} conveyor_rlimit;

/// RLIMIT_NPROC, which Swift's Glibc module does not show (it is a BSD extension in glibc's headers).
extern const int conveyor_rlimit_nproc;

/// How to start one contained child process.
typedef struct {
    /// The program: paths tried in order (a name looked up on PATH gives one per PATH folder); the
    /// first that can be run as the child's user runs. Relative paths read from `working_directory`.
    const char *const *executables;
    int executable_count;
    char *const *argv;
    char *const *envp;
    const char *working_directory;
    /// Becomes the child's stdout and stderr; stdin is /dev/null; every other descriptor is closed.
    int output_fd;
    /// The files the child joins its control groups by (writes "0" to: v1 `tasks`, v2 `cgroup.procs`)
    /// before the program starts, so the program and everything it starts are in those groups from
    /// their first instruction.
    const char *const *cgroup_procs;
    int cgroup_procs_count;
    const conveyor_rlimit *rlimits;
    int rlimit_count;
    /// Non-zero: drop supplementary groups and switch to `gid` and `uid` before the program starts.
    int set_credentials;
    unsigned int uid;
    unsigned int gid;
} conveyor_spawn_request;

/// Starts the child in its own process group (vfork, then only system calls until execve).
/// Returns 0 with `*pid` set, or an errno with `*failed_step` naming the step that failed (the
/// child has been reaped then).
int conveyor_spawn(const conveyor_spawn_request *request, pid_t *pid, const char **failed_step);

/// Kills (SIGKILL) every process running as `uid`: a child switches to that user and sends the
/// signal to every process it may signal (kill(-1)), which are exactly that user's. Where no
/// control group holds a run, this is how what a model user left behind (a `setsid` child) ends.
/// Returns 0, or an errno.
int conveyor_kill_user(unsigned int uid);

#endif
