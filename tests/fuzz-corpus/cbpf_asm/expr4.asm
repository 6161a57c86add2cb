; 12 instructions
	ldh	[12]
	jeq	#0x800, L2, L11
L2:
	ldb	[23]
	jeq	#0x6, L4, L11
L4:
	ldh	[20]
	jset	#0x1fff, L11, L6
L6:
	ldxb	4*([14]&0xf)
	ldb	[x + 27]
	and	#0x12
	jeq	#0x2, L10, L11
L10:
	ret	#262144
L11:
	ret	#0
