/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Syscall numbers and names of the architecture pangolin was built for. */
#ifndef PANGOLIN_SYSCALLS_H
#define PANGOLIN_SYSCALLS_H

/* "openat" for its number, or NULL when the number has no name here. */
const char *pg_syscall_name(long nr);
/* The number of a syscall name ("openat" or "sys_openat"), or -1. */
long pg_syscall_number(const char *name);

#endif /* PANGOLIN_SYSCALLS_H */
