from rest_framework.permissions import DjangoModelPermissions


class ReadForUsersWriteWithModelPermission(DjangoModelPermissions):
    """Any signed-in account reads; every write needs the add, change or delete permission."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            # DRF checks throttles only after permissions, so without this an anonymous caller
            # (say, one guessing tokens) would never meet the anonymous rate limit.
            view.check_throttles(request)
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().has_permission(request, view)


class ReadForUsersWriteWithNamedPermission(ReadForUsersWriteWithModelPermission):
    """For views whose writes are not adds or changes of their own model (a price point reported
    by an integration records a probe): the view names the permission in `write_permission`."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            view.check_throttles(request)
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return request.user.has_perm(view.write_permission)
