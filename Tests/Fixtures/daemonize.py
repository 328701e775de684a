"""Starts a daemonized grandchild (fork, setsid, fork) that writes its pid to argv[1] and
sleeps, then returns at once: what a trial that launches a background server does. The
process-tree tests check that hpod ends the grandchild with the trial."""
import os
import sys
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(sys.argv[1] + ".tmp", "w") as out:
            out.write(str(os.getpid()))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        time.sleep(300)
    os._exit(0)
