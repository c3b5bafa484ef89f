# inspect lists the roles, the worlds a component satisfies, and what the
# other worlds lack, as a table and as JSON.
RUN inspect counter-source
RUN inspect counter-source --format json
