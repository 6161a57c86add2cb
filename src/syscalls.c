// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The table is generated at build time from the C library's <sys/syscall.h> (see the
 * Makefile), so the numbers are the build architecture's and nobody keeps a list by hand.
 */
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include "syscalls.h"

static const struct {
	long nr;
	const char *name;
} table[] = {
#include "syscall_names.h"
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

const char *pg_syscall_name(long nr)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].nr == nr)
			return table[i].name;
	return NULL;
}

long pg_syscall_number(const char *name)
{
	if (!strncmp(name, "sys_", 4))
		name += 4;
	for (size_t i = 0; i < NTABLE; i++)
		if (!strcmp(table[i].name, name))
			return table[i].nr;
	return -1;
}
