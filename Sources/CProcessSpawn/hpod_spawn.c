// posix_spawn with the glibc extension posix_spawn_file_actions_addchdir_np, which Swift's
// Glibc module does not expose (it needs _GNU_SOURCE). Spawning with a chdir action keeps the
// parent's working directory untouched while many trials start concurrently.
#define _GNU_SOURCE
#include "hpod_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

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
