// posix_spawn with the glibc extension posix_spawn_file_actions_addchdir_np, which Swift's
// Glibc module does not expose (it needs _GNU_SOURCE). Spawning with a chdir action keeps the
// parent's working directory untouched while many trials start concurrently.
#define _GNU_SOURCE
#include "hpod_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/// The child's half of hpod_spawn_in_cgroup: only async-signal-safe calls between vfork and exec.
static void child_after_fork(const char *file, char *const argv[], char *const envp[], const char *cwd,
                             int stdout_fd, int stderr_fd, int cgroup_procs_fd, int report_fd) {
  // Join the trial's cgroup first, before the program can start anything.
  char digits[24];
  int n = 0;
  char reversed[24];
  for (pid_t pid = getpid(); pid > 0; pid /= 10) reversed[n++] = (char)('0' + pid % 10);
  for (int i = 0; i < n; i++) digits[i] = reversed[n - 1 - i];
  digits[n++] = '\n';
  // A cgroup that refuses the process leaves the trial to its environment token.
  (void)!write(cgroup_procs_fd, digits, (size_t)n);
  int error = 0;
  if (setpgid(0, 0) != 0) error = errno;
  struct sigaction defaults = {0};
  defaults.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &defaults, NULL);
  }
  int devnull = open("/dev/null", O_RDONLY);
  if (error == 0 && (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0 ||
                     dup2(stderr_fd, STDERR_FILENO) < 0))
    error = errno;
  // Everything else hpod has open stays out of the trial; the report pipe closes on exec.
  if (report_fd > STDERR_FILENO + 1) close_range(STDERR_FILENO + 1, (unsigned)report_fd - 1, 0);
  close_range((unsigned)report_fd + 1, ~0U, 0);
  if (error == 0 && cwd != NULL && chdir(cwd) != 0) error = errno;
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, NULL);
  if (error == 0) {
    execvpe(file, argv, envp);
    error = errno;
  }
  (void)!write(report_fd, &error, sizeof error);
  _exit(127);
}

int hpod_spawn_in_cgroup(const char *file, char *const argv[], char *const envp[], const char *cwd, int stdout_fd,
                         int stderr_fd, int cgroup_procs_fd, pid_t *pid) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return errno;
  // Signals stay blocked across fork so no handler of hpod's runs in the child.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  // vfork, not fork: fork runs pthread_atfork handlers, and OpenBLAS's handler shuts its thread
  // pool down under a GP suggestion running on another thread, which then waits forever. The
  // vfork child shares memory until it execs, so it only makes system calls (and never returns).
  pid_t child = vfork();
  if (child == 0) child_after_fork(file, argv, envp, cwd, stdout_fd, stderr_fd, cgroup_procs_fd, report[1]);
  int fork_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  close(report[1]);
  if (child < 0) {
    close(report[0]);
    return fork_error;
  }
  // The pipe closes at exec (nothing read) or carries the errno of what failed before it.
  int error = 0;
  ssize_t got;
  do got = read(report[0], &error, sizeof error);
  while (got < 0 && errno == EINTR);
  close(report[0]);
  if (got == (ssize_t)sizeof error) {
    waitpid(child, NULL, 0);
    return error;
  }
  *pid = child;
  return 0;
}

int hpod_spawn(const char *file, char *const argv[], char *const envp[], const char *cwd, int stdout_fd,
               int stderr_fd, pid_t *pid) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  int rc = posix_spawn_file_actions_init(&actions);
  if (rc != 0) return rc;
  rc = posix_spawnattr_init(&attributes);
  if (rc != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return rc;
  }

  if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
  // Descriptors hpod has open (the store, other trials' pipes and logs) stay out of the trial,
  // whether or not whoever opened them asked for close-on-exec.
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  if (rc == 0 && cwd != NULL) rc = posix_spawn_file_actions_addchdir_np(&actions, cwd);

  // The trial leads its own process group, so a stop signal reaches every process it spawned,
  // and the terminal's Ctrl-C reaches hpod only (hpod then stops the trials in order).
  sigset_t defaults, mask;
  sigemptyset(&mask);
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&attributes, 0);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attributes, &defaults);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attributes, &mask);
  if (rc == 0)
    rc = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (rc == 0) rc = posix_spawnp(pid, file, &actions, &attributes, argv, envp);

  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

int hpod_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int hpod_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
