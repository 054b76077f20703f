/* Memory slots split under a running guest: it reads back what petrel wrote. */
#include "guest.h"
#define SPLIT 0x300000
_start:
	mov $(TESTDEV + 0x18), %dx
	mov $1, %eax
	out %eax, %dx                   /* overlay: prefix + overlay + suffix slots */
	in %dx, %eax
	cmp $3, %eax
	jne fail1
	mov $0xaaaaaaaaaaaaaaaa, %rax
	cmp %rax, SPLIT - 8             /* last bytes of the prefix slot */
	jne fail2
	mov $0x4f4f4f4f4f4f4f4f, %rax
	cmp %rax, SPLIT                 /* the overlay */
	jne fail3
	cmp %rax, SPLIT + 0xfff8
	jne fail3
	mov $0xbbbbbbbbbbbbbbbb, %rax
	cmp %rax, SPLIT + 0x10000       /* first bytes of the suffix slot */
	jne fail4
	mov $2, %eax
	out %eax, %dx                   /* RAM mapped back */
	mov $0x4848484848484848, %rax
	cmp %rax, SPLIT
	jne fail5
	POWEROFF
fail1:	FAIL(1)
fail2:	FAIL(2)
fail3:	FAIL(3)
fail4:	FAIL(4)
fail5:	FAIL(5)
