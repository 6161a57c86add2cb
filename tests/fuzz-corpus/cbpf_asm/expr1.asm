; 23 instructions
	ldh	[12]
	jeq	#0x86dd, L2, L9
L2:
	ldb	[20]
	jeq	#0x6, L4, L22
L4:
	ldh	[54]
	jeq	#0x50, L21, L6
L6:
	jeq	#0x1bb, L21, L7
L7:
	ldh	[56]
	jeq	#0x50, L21, L20
L9:
	jeq	#0x800, L10, L22
L10:
	ldb	[23]
	jeq	#0x6, L12, L22
L12:
	ldh	[20]
	jset	#0x1fff, L22, L14
L14:
	ldxb	4*([14]&0xf)
	ldh	[x + 14]
	jeq	#0x50, L21, L17
L17:
	jeq	#0x1bb, L21, L18
L18:
	ldh	[x + 16]
	jeq	#0x50, L21, L20
L20:
	jeq	#0x1bb, L21, L22
L21:
	ret	#262144
L22:
	ret	#0
