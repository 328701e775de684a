#ifndef HPOD_SPAWN_H
#define HPOD_SPAWN_H
#include <sys/types.h>

/// Starts `file` (searched on PATH when it has no slash) with `argv` and `envp` in `cwd`, as
/// the leader of a new process group, stdin from /dev/null, stdout and stderr on the given
/// descriptors, default signal dispositions and an empty signal mask.
/// Returns 0 and sets `*pid`, or an errno value.
int hpod_spawn(const char *file, char *const argv[], char *const envp[], const char *cwd, int stdout_fd,
               int stderr_fd, pid_t *pid);

/// hpod_spawn, but the child writes itself into `cgroup_procs_fd` (a cgroup's cgroup.procs,
/// opened for writing) before it execs, so nothing the program starts can escape the cgroup.
/// Uses vfork (posix_spawn cannot act between fork and exec; fork would run atfork handlers).
int hpod_spawn_in_cgroup(const char *file, char *const argv[], char *const envp[], const char *cwd, int stdout_fd,
                         int stderr_fd, int cgroup_procs_fd, pid_t *pid);

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec. Returns 0, or -1 with errno set.
int hpod_pipe_cloexec(int fds[2]);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process.
/// Returns 0, or -1 with errno set.
int hpod_become_subreaper(void);

#endif
