# An unknown shell is a usage error listing the ones there are.
RUN completions tcsh
EXIT 2
