; 10 instructions
	ldh	[12]
	jeq	#0x86dd, L2, L9
L2:
	ldb	[20]
	jeq	#0x11, L4, L9
L4:
	ldh	[54]
	jeq	#0x35, L8, L6
L6:
	ldh	[56]
	jeq	#0x35, L8, L9
L8:
	ret	#262144
L9:
	ret	#0
