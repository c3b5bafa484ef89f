# The unversioned spelling of an import satisfies the extension world.
RUN inspect token-filter
