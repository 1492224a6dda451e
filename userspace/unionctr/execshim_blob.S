/* SPDX-License-Identifier: GPL-2.0 */
/* The unionctr-exec program (execshim.c), built first, as bytes in rodata. */
	.section .rodata
	.balign 16
	.globl uc_execshim_start
	.globl uc_execshim_end
uc_execshim_start:
	.incbin EXECSHIM_BIN
uc_execshim_end:
	.section .note.GNU-stack,"",%progbits
