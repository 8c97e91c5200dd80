"""JSON API of the printed side, mounted under /api/v1/ in config/api.py:

    /api/v1/documents/quotations/{id}/pdf?language=        the PDF (application/pdf)
    /api/v1/documents/proforma-invoices/{id}/pdf?language=
    /api/v1/seller-profiles                                 letterhead + nested bank accounts
    /api/v1/document-templates                              administrators' PDF templates

A PDF is found when its document is (its customer visible to you; otherwise 404); an unknown
language is 422 on `language`. Seller profiles are read by everyone signed in and changed by
administrators (403 otherwise). Document templates exist for administrators only.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from tradecrm.core.api import (
    DELETE,
    PATCH,
    READ,
    WRITE,
    Error,
    Id,
    ValidationErrors,
    check_delete_version,
    created_response,
    json_response,
    not_modified,
    object_response,
    required_version,
)

from . import print_selectors as selectors
from . import print_services as services
from . import selectors as document_selectors
from .print_schemas import (
    BankAccountCreate,
    BankAccountOut,
    BankAccountPage,
    BankAccountPatch,
    BuiltinTemplateOut,
    PdfQuery,
    PreviewQuery,
    SellerCreate,
    SellerOut,
    SellerPage,
    SellerPatch,
    TemplateCreate,
    TemplateOut,
    TemplatePage,
    TemplatePatch,
)

document_pdfs = Router(tags=["document-pdfs"])
sellers = Router(tags=["sellers"])
document_templates = Router(tags=["document-templates"])

PDF_OPENAPI = {
    "responses": {
        "200": {
            "description": "The PDF, as an attachment named after the document's number.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
PDF_ANSWERS = {200: None, **READ, 422: ValidationErrors}

BANK_FIELDS = (
    "id", "seller_id", "label", "currency", "beneficiary", "beneficiary_address", "bank_name", "bank_address",
    "swift", "account_number", "iban", "intermediary_bank", "is_default", "active", "version", "created_at",
    "updated_at",
)  # fmt: skip
SELLER_FIELDS = (
    "id", "name_en", "name_zh", "address_en", "address_zh", "phone", "email", "website", "tax_id", "is_default",
    "version", "created_at", "updated_at",
)  # fmt: skip
TEMPLATE_ROW = ("id", "kind", "language", "name", "active", "version", "created_at", "updated_at")


# --- PDFs ---------------------------------------------------------------------------------------


def _pdf(document, language: str | None) -> HttpResponse:
    data = services.document_pdf(document, language=language or document.language)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{services.pdf_filename(document)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@document_pdfs.get(
    "/quotations/{int:quotation_id}/pdf",
    response=PDF_ANSWERS,
    summary="Download a quotation as PDF",
    openapi_extra=PDF_OPENAPI,
)
def quotation_pdf(request: HttpRequest, quotation_id: Id, query: Query[PdfQuery]):
    """In English, Chinese or both (`language`). An issued quotation prints its frozen snapshot
    (and is served from the PDF cache after the first time); a draft carries a “DRAFT / 草稿”
    watermark and its file is named `draft-<id>.pdf`."""
    document = document_selectors.quotation_get_for_user(request.auth, quotation_id)
    return _pdf(document, query.language)


@document_pdfs.get(
    "/proforma-invoices/{int:proforma_id}/pdf",
    response=PDF_ANSWERS,
    summary="Download a proforma invoice as PDF",
    openapi_extra=PDF_OPENAPI,
)
def proforma_pdf(request: HttpRequest, proforma_id: Id, query: Query[PdfQuery]):
    """As for quotations; with the bank details, deposit and balance with their due dates."""
    document = document_selectors.proforma_get_for_user(request.auth, proforma_id)
    return _pdf(document, query.language)


# --- seller profiles ----------------------------------------------------------------------------


def _admin(request) -> None:
    if not services.can_manage_print(request.auth):
        raise PermissionDenied(
            _("Only an administrator may change the company details, bank accounts and document templates.")
        )


def _account_out(account) -> dict:
    return {k: getattr(account, k) for k in BANK_FIELDS}


def _seller_out(seller, accounts=None) -> dict:
    out = {k: getattr(seller, k) for k in SELLER_FIELDS}
    out["logo_url"] = f"/api/v1/seller-profiles/{seller.pk}/logo" if seller.logo else None
    accounts = selectors.seller_accounts(seller) if accounts is None else accounts
    out["bank_accounts"] = [_account_out(a) for a in accounts]
    return out


@sellers.get("", response={200: SellerPage, 401: Error}, summary="List seller profiles")
def list_sellers(request: HttpRequest):
    """Every seller profile (a handful, one page), the default first, with its bank accounts."""
    rows = selectors.seller_list(request.auth)
    items = [_seller_out(s, list(s.bank_accounts.all())) for s in rows]
    return json_response({"items": items, "next_cursor": None, "prev_cursor": None})


@sellers.post("", response={201: SellerOut, **WRITE}, summary="Create a seller profile")
def create_seller(request: HttpRequest, payload: SellerCreate):
    """Administrators. The first profile becomes the default; upload the logo afterwards."""
    _admin(request)
    seller = services.seller_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(_seller_out(seller), "seller-profiles")


@sellers.get("/{int:seller_id}", response={200: SellerOut, 304: None, **READ}, summary="Get a seller profile")
def get_seller(request: HttpRequest, seller_id: Id):
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    return not_modified(request, seller.version) or object_response(_seller_out(seller))


@sellers.patch("/{int:seller_id}", response={200: SellerOut, **PATCH}, summary="Change a seller profile")
def patch_seller(request: HttpRequest, seller_id: Id, payload: SellerPatch):
    """Administrators. Issued documents keep the letterhead they printed."""
    _admin(request)
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    seller = services.seller_update(actor=request.auth, seller=seller, version=version, data=data)
    return object_response(_seller_out(seller))


@sellers.delete("/{int:seller_id}", response={204: None, **DELETE, 422: ValidationErrors},
                summary="Delete a seller profile")  # fmt: skip
def delete_seller(request: HttpRequest, seller_id: Id):
    """Administrators. 422 while a document uses it or one of its bank accounts."""
    _admin(request)
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    check_delete_version(request, seller)
    services.seller_delete(actor=request.auth, seller=seller)
    return HttpResponse(status=204)


@sellers.get(
    "/{int:seller_id}/logo",
    response={200: None, **READ},
    summary="Download the letterhead logo",
    openapi_extra={"responses": {"200": {"description": "The image."}}},
)
def get_logo(request: HttpRequest, seller_id: Id):
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    if not seller.logo:
        raise Http404
    try:
        handle = seller.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@sellers.post("/{int:seller_id}/logo", response={200: SellerOut, **PATCH}, summary="Upload the logo")
def upload_logo(
    request: HttpRequest, seller_id: Id, logo: File[UploadedFile], version: Form[int | None] = None
):
    """multipart/form-data: the image as `logo` (PNG, JPEG, WebP or GIF, at most 2 MB, sniffed
    from the bytes) and `version` (or If-Match). Administrators."""
    _admin(request)
    version = required_version(request, version)
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    seller = services.seller_update(actor=request.auth, seller=seller, version=version, data={}, logo=logo)
    return object_response(_seller_out(seller))


@sellers.delete("/{int:seller_id}/logo", response={200: SellerOut, **PATCH}, summary="Remove the logo")
def delete_logo(request: HttpRequest, seller_id: Id):
    """Administrators; send If-Match with the version you last read."""
    _admin(request)
    version = required_version(request, None)
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    seller = services.seller_update(
        actor=request.auth, seller=seller, version=version, data={}, remove_logo=True
    )
    return object_response(_seller_out(seller))


# --- bank accounts ------------------------------------------------------------------------------


@sellers.get("/{int:seller_id}/bank-accounts", response={200: BankAccountPage, **READ},
             summary="List a seller's bank accounts")  # fmt: skip
def list_accounts(request: HttpRequest, seller_id: Id):
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    items = [_account_out(a) for a in selectors.seller_accounts(seller)]
    return json_response({"items": items, "next_cursor": None, "prev_cursor": None})


@sellers.post("/{int:seller_id}/bank-accounts", response={201: BankAccountOut, **WRITE},
              summary="Add a bank account")  # fmt: skip
def create_account(request: HttpRequest, seller_id: Id, payload: BankAccountCreate):
    """Administrators. 422 on `swift` unless 8 or 11 characters of the SWIFT/BIC pattern, on
    `iban` when its check digits do not add up, on `currency` for an unknown code."""
    _admin(request)
    seller = selectors.seller_get_for_user(request.auth, seller_id)
    account = services.bank_account_create(actor=request.auth, seller=seller,
                                           data=payload.model_dump(exclude_unset=True))  # fmt: skip
    response = object_response(_account_out(account), status=201)
    response["Location"] = f"/api/v1/seller-profiles/{seller.pk}/bank-accounts/{account.pk}"
    return response


@sellers.get("/{int:seller_id}/bank-accounts/{int:account_id}", response={200: BankAccountOut, 304: None, **READ},
             summary="Get a bank account")  # fmt: skip
def get_account(request: HttpRequest, seller_id: Id, account_id: Id):
    account = selectors.bank_account_get_for_user(request.auth, account_id, seller_id=seller_id)
    return not_modified(request, account.version) or object_response(_account_out(account))


@sellers.patch("/{int:seller_id}/bank-accounts/{int:account_id}", response={200: BankAccountOut, **PATCH},
               summary="Change a bank account")  # fmt: skip
def patch_account(request: HttpRequest, seller_id: Id, account_id: Id, payload: BankAccountPatch):
    _admin(request)
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    account = selectors.bank_account_get_for_user(request.auth, account_id, seller_id=seller_id)
    account = services.bank_account_update(actor=request.auth, account=account, version=version, data=data)
    return object_response(_account_out(account))


@sellers.delete("/{int:seller_id}/bank-accounts/{int:account_id}",
                response={204: None, **DELETE, 422: ValidationErrors}, summary="Delete a bank account")  # fmt: skip
def delete_account(request: HttpRequest, seller_id: Id, account_id: Id):
    """Administrators. 422 while a document uses it: switch it off instead (`active: false`)."""
    _admin(request)
    account = selectors.bank_account_get_for_user(request.auth, account_id, seller_id=seller_id)
    check_delete_version(request, account)
    services.bank_account_delete(actor=request.auth, account=account)
    return HttpResponse(status=204)


# --- document templates -------------------------------------------------------------------------


def _template_row(template) -> dict:
    return {k: getattr(template, k) for k in TEMPLATE_ROW}


def _template_out(template) -> dict:
    return {**_template_row(template), "source": template.source}


@document_templates.get(
    "", response={200: TemplatePage, 401: Error, 403: Error}, summary="List document templates"
)
def list_templates(request: HttpRequest):
    """Administrators. Without `source` (GET one template for it)."""
    _admin(request)
    items = [_template_row(t) for t in selectors.template_list(request.auth)]
    return json_response({"items": items, "next_cursor": None, "prev_cursor": None})


@document_templates.get(
    "/builtin/{kind}", response={200: BuiltinTemplateOut, **READ, 403: Error}, summary="The built-in template"
)
def builtin_template(request: HttpRequest, kind: str):
    """The built-in layout of `quotation` or `proforma`: the starting point of your own."""
    _admin(request)
    if kind not in services.KINDS:
        raise Http404
    return json_response({"kind": kind, "template_name": services.BUILTIN_TEMPLATES[kind],
                          "source": services.builtin_template_source(kind)})  # fmt: skip


@document_templates.post("", response={201: TemplateOut, **WRITE}, summary="Create a document template")
def create_template(request: HttpRequest, payload: TemplateCreate):
    """422 on `source` with the reasons (line numbers) when it cannot be used; nothing is saved."""
    _admin(request)
    template = services.template_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(_template_out(template), "document-templates")


@document_templates.get("/{int:template_id}", response={200: TemplateOut, 304: None, **READ},
                        summary="Get a document template")  # fmt: skip
def get_template(request: HttpRequest, template_id: Id):
    template = selectors.template_get_for_user(request.auth, template_id)
    return not_modified(request, template.version) or object_response(_template_out(template))


@document_templates.patch("/{int:template_id}", response={200: TemplateOut, **PATCH},
                          summary="Change a document template")  # fmt: skip
def patch_template(request: HttpRequest, template_id: Id, payload: TemplatePatch):
    """`active: true` puts it in use for its kind and language (the one before is switched off)."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    template = selectors.template_get_for_user(request.auth, template_id)
    template = services.template_update(actor=request.auth, template=template, version=version, data=data)
    return object_response(_template_out(template))


@document_templates.delete("/{int:template_id}", response={204: None, **DELETE},
                           summary="Delete a document template")  # fmt: skip
def delete_template(request: HttpRequest, template_id: Id):
    template = selectors.template_get_for_user(request.auth, template_id)
    check_delete_version(request, template)
    services.template_delete(actor=request.auth, template=template)
    return HttpResponse(status=204)


@document_templates.get(
    "/{int:template_id}/preview",
    response={200: None, **READ, 422: ValidationErrors},
    summary="Preview a document template with sample data",
    openapi_extra=PDF_OPENAPI,
)
def preview_template(request: HttpRequest, template_id: Id, query: Query[PreviewQuery]):
    template = selectors.template_get_for_user(request.auth, template_id)
    language = query.language or template.language
    data = services.template_preview(kind=template.kind, language=language, template=template)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="preview-{template.kind}-{language}.pdf"'
    return response
