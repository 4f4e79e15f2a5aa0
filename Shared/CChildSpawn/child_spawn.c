#define _GNU_SOURCE
#include "child_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const int conveyor_rlimit_nproc = RLIMIT_NPROC;

// The child shares the parent's memory until it calls execve (vfork): it must not take locks,
// allocate or touch other threads, so it makes raw system calls only. glibc's setuid/setgid would
// signal every thread of the (shared) process to change their ids too, hence the syscalls.
int conveyor_spawn(const conveyor_spawn_request *request, pid_t *pid_out, const char **failed_step) {
    sigset_t all, previous;
    sigfillset(&all);
    // No signal handler of the parent may run in the child while it shares the parent's memory.
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    volatile int child_errno = 0;
    const char *volatile child_step = NULL;

    pid_t pid = vfork();
    if (pid == 0) {
#define FAIL(step)               \
    do {                         \
        child_errno = errno;     \
        child_step = step;       \
        _exit(127);              \
    } while (0)
        // The kernel's own layout of a signal action (glibc's struct sigaction differs): SIG_DFL.
        struct {
            void *handler;
            unsigned long flags;
            void *restorer;
            unsigned long mask[_NSIG / (8 * sizeof(unsigned long))];
        } defaults;
        memset(&defaults, 0, sizeof defaults);
        for (int signal = 1; signal < _NSIG; signal++) {
            if (signal != SIGKILL && signal != SIGSTOP) syscall(SYS_rt_sigaction, signal, &defaults, NULL, _NSIG / 8);
        }
        if (setpgid(0, 0) != 0) FAIL("setpgid");
        for (int index = 0; index < request->cgroup_procs_count; index++) {
            int fd = open(request->cgroup_procs[index], O_WRONLY | O_CLOEXEC);
            if (fd < 0) FAIL("open cgroup.procs");
            if (write(fd, "0", 1) != 1) FAIL("join the control group");
            close(fd);
        }
        for (int index = 0; index < request->rlimit_count; index++) {
            struct rlimit limit = {request->rlimits[index].soft, request->rlimits[index].hard};
            if (syscall(SYS_prlimit64, 0, request->rlimits[index].resource, &limit, NULL) != 0) FAIL("setrlimit");
        }
        if (chdir(request->working_directory) != 0) FAIL("chdir");
        int null = open("/dev/null", O_RDONLY);
        if (null < 0) FAIL("open /dev/null");
        if (dup2(null, 0) < 0 || dup2(request->output_fd, 1) < 0 || dup2(request->output_fd, 2) < 0) FAIL("dup2");
        if (syscall(SYS_close_range, 3, ~0U, 0) != 0) {
            // Kernels before 5.9: close what could be open, one by one.
            if (errno != ENOSYS) FAIL("close_range");
            for (int fd = 3; fd < 65536; fd++) close(fd);
        }
        if (request->set_credentials) {
            if (syscall(SYS_setgroups, 0, NULL) != 0) FAIL("setgroups");
            if (syscall(SYS_setresgid, request->gid, request->gid, request->gid) != 0) FAIL("setgid");
            if (syscall(SYS_setresuid, request->uid, request->uid, request->uid) != 0) FAIL("setuid");
        }
        sigset_t none;
        sigemptyset(&none);
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
        // As execvp does: a candidate that is missing or not runnable by this user is skipped.
        int first_error = 0;
        for (int index = 0; index < request->executable_count; index++) {
            execve(request->executables[index], request->argv, request->envp);
            if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) break;
            if (first_error == 0 || (errno == EACCES && first_error != EACCES)) first_error = errno;
        }
        if (first_error != 0 && (errno == ENOENT || errno == ENOTDIR || errno == EACCES)) errno = first_error;
        FAIL("execve");
#undef FAIL
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid < 0) {
        *failed_step = "vfork";
        return saved;
    }
    if (child_step != NULL) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *failed_step = child_step;
        return child_errno;
    }
    *pid_out = pid;
    return 0;
}

int conveyor_kill_user(unsigned int uid) {
    if (uid == 0) return EINVAL;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = vfork();
    if (pid == 0) {
        // Raw system calls only (see conveyor_spawn): the credentials of this task alone change.
        if (syscall(SYS_setresgid, uid, uid, uid) != 0 || syscall(SYS_setresuid, uid, uid, uid) != 0) _exit(1);
        kill(-1, SIGKILL);
        _exit(0);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid < 0) return saved;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EPERM;
}
