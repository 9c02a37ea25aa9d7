
»
tsmap.prototsmap"œ
Reading
ts (Rts2
values (2.tsmap.Reading.ValuesEntryRvalues
note (	Rnote9
ValuesEntry
key (	Rkey
value (Rvalue:8bproto3