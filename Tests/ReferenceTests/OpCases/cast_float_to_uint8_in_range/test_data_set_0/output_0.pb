
BYJ
ûlzNª\$!