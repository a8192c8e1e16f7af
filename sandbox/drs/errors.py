"""DRS service errors, shaped as the botocore ``drs`` model declares them."""

from __future__ import annotations

# HTTP status of every modelled DRS exception (botocore drs 2020-02-26).
ERROR_STATUS = {
    "AccessDeniedException": 403,
    "ConflictException": 409,
    "InternalServerException": 500,
    "ResourceNotFoundException": 404,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "UninitializedAccountException": 400,
    "ValidationException": 400,
}


class DRSError(Exception):
    """An error answered to the caller: exception name, message and the modelled extra fields."""

    def __init__(self, code: str, message: str, status: int | None = None, headers: dict | None = None, **fields):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or ERROR_STATUS.get(code, 400)
        self.headers = headers or {}
        self.fields = {k: v for k, v in fields.items() if v is not None}

    def body(self) -> dict:
        body = {"message": self.message}
        body.update(self.fields)
        return body


def validation(message: str, fields: list[dict] | None = None, reason: str = "fieldValidationFailed") -> DRSError:
    return DRSError("ValidationException", message, reason=reason, fieldList=fields or None)


def field_error(name: str, message: str) -> DRSError:
    return validation(f"Invalid value for field '{name}': {message}", [{"name": name, "message": message}])


def conflict(message: str, resource_id: str | None = None, resource_type: str | None = None) -> DRSError:
    return DRSError("ConflictException", message, resourceId=resource_id, resourceType=resource_type)


def not_found(message: str, resource_id: str | None = None, resource_type: str | None = None) -> DRSError:
    return DRSError("ResourceNotFoundException", message, resourceId=resource_id, resourceType=resource_type)


def quota(message: str, quota_code: str, resource_type: str | None = None) -> DRSError:
    return DRSError("ServiceQuotaExceededException", message, serviceCode="drs", quotaCode=quota_code,
                    resourceType=resource_type)


def uninitialized(account_id: str, region: str) -> DRSError:
    return DRSError(
        "UninitializedAccountException",
        f"The account {account_id} has not been initialized for Elastic Disaster Recovery in {region}. "
        "Call InitializeService first.",
    )


def throttled(retry_after: int = 1) -> DRSError:
    return DRSError("ThrottlingException", "Rate exceeded", headers={"Retry-After": str(retry_after)},
                    retryAfterSeconds=str(retry_after), serviceCode="drs")
