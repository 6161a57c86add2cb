; 6 instructions
	ldh	[12]
	jeq	#0x800, L2, L5
L2:
	ldh	[20]
	jset	#0x1fff, L4, L5
L4:
	ret	#262144
L5:
	ret	#0
