; 12 instructions
	ldh	[12]
	jeq	#0x800, L2, L4
L2:
	ldb	[23]
	jeq	#0x11, L10, L11
L4:
	jeq	#0x86dd, L5, L11
L5:
	ldb	[20]
	jeq	#0x11, L10, L7
L7:
	jeq	#0x2c, L8, L11
L8:
	ldb	[54]
	jeq	#0x11, L10, L11
L10:
	ret	#262144
L11:
	ret	#0
