#ifndef CONVEYOR_CLINUX_SHIM_H
#define CONVEYOR_CLINUX_SHIM_H

// Linux interfaces Swift's Glibc module leaves out: epoll and eventfd, for the worker's one thread
// that watches every child process (WorkerKit's ChildSupervisor).
#include <sys/epoll.h>
#include <sys/eventfd.h>

#endif
