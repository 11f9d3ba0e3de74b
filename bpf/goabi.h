/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The Go internal register ABI (Go 1.17+ amd64, 1.18+ arm64), at the entry
 * of an ABIInternal function: the current g and the integer arguments. */
#ifndef GOLEAKTRACE_GOABI_H
#define GOLEAKTRACE_GOABI_H

#if defined(__TARGET_ARCH_x86)
#define GO_G(ctx) ((ctx)->r14)
#define GO_ARG1(ctx) ((ctx)->ax)
#define GO_ARG2(ctx) ((ctx)->bx)
#define GO_ARG3(ctx) ((ctx)->cx)
#elif defined(__TARGET_ARCH_arm64)
#define GO_G(ctx) ((ctx)->regs[28])
#define GO_ARG1(ctx) ((ctx)->regs[0])
#define GO_ARG2(ctx) ((ctx)->regs[1])
#define GO_ARG3(ctx) ((ctx)->regs[2])
#else
#error "goleaktrace: unsupported target architecture"
#endif

#endif
