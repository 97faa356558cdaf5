//! Storefront customer accounts: register, log in (with cart merge), profile, password resets
//! and the address book.

mod auth;

use cartwheel_domain::accounts::AccountError;
use cartwheel_domain::accounts::resets;
use cartwheel_domain::customers::addresses::{self, AddressInput};
use cartwheel_domain::customers::{self, Registration, Session};
use cartwheel_entity::{addresses as address_rows, customers as customer_rows};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

pub use auth::{CustomerAuth, STOREFRONT_AUDIENCE, Shopper};

use crate::auth::AdminError;
use crate::auth::throttle;
use crate::country::Country;
use crate::json_body::JsonBody;
use crate::responses::{Accepted, Created, NoContent};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

#[derive(Tags)]
enum ApiTags {
    /// Shoppers' accounts.
    Account,
}

pub struct AccountApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct RegisterRequest {
    #[oai(validator(max_length = 254))]
    email: String,
    #[oai(validator(min_length = 10, max_length = 256))]
    password: String,
    #[oai(validator(min_length = 1, max_length = 100))]
    first_name: String,
    #[oai(validator(max_length = 100))]
    last_name: String,
    /// An anonymous cart to keep: it merges into the customer's cart.
    #[oai(nullable)]
    cart_id: Option<uuid::Uuid>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CustomerLoginRequest {
    #[oai(validator(max_length = 254))]
    email: String,
    #[oai(validator(max_length = 256))]
    password: String,
    /// An anonymous cart to keep: it merges into the customer's cart.
    #[oai(nullable)]
    cart_id: Option<uuid::Uuid>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CustomerView {
    id: uuid::Uuid,
    email: String,
    first_name: String,
    last_name: String,
    #[oai(nullable)]
    phone: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<customer_rows::Model> for CustomerView {
    fn from(c: customer_rows::Model) -> Self {
        CustomerView {
            id: c.id,
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            phone: c.phone,
            created_at: c.created_at,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CustomerLogin {
    customer_id: uuid::Uuid,
    token: String,
    /// Always `Bearer`.
    token_type: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    customer: CustomerView,
    /// The customer's cart after merging, if they have one.
    #[oai(nullable)]
    cart_id: Option<uuid::Uuid>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ProfileRequest {
    #[oai(validator(min_length = 1, max_length = 100))]
    first_name: String,
    #[oai(validator(max_length = 100))]
    last_name: String,
    /// Digits, spaces and `+ - ( ) .`.
    #[oai(nullable, validator(pattern = "^[0-9 +().-]{0,32}$"))]
    phone: Option<String>,
}

#[derive(Object)]
struct ForgotRequest {
    #[oai(validator(max_length = 254))]
    email: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ResetRequest {
    #[oai(validator(max_length = 128))]
    token: String,
    #[oai(validator(min_length = 10, max_length = 256))]
    new_password: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AddressRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    name: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    line1: String,
    #[oai(default, validator(max_length = 200))]
    line2: String,
    #[oai(validator(min_length = 1, max_length = 100))]
    city: String,
    #[oai(default, validator(max_length = 100))]
    region: String,
    #[oai(validator(min_length = 1, max_length = 32))]
    postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    country: Country,
    /// Digits, spaces and `+ - ( ) .`.
    #[oai(default, validator(pattern = "^[0-9 +().-]{0,32}$"))]
    phone: String,
    #[oai(default)]
    is_default: bool,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AddressView {
    id: uuid::Uuid,
    name: String,
    line1: String,
    line2: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    phone: String,
    is_default: bool,
}

impl From<address_rows::Model> for AddressView {
    fn from(a: address_rows::Model) -> Self {
        AddressView {
            id: a.id,
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            is_default: a.is_default,
        }
    }
}

#[derive(Object)]
struct AddressList {
    items: Vec<AddressView>,
}

fn login_answer(state: &AppState, session: Session) -> CustomerLogin {
    let (token, expires_at) = state.jwt.issue(
        session.customer.id,
        session.customer.tenant_id,
        session.customer.session_version,
        "customer",
        STOREFRONT_AUDIENCE,
        state.jwt.admin_ttl,
    );
    CustomerLogin {
        customer_id: session.customer.id,
        token,
        token_type: "Bearer".into(),
        expires_at,
        customer: session.customer.into(),
        cart_id: session.cart_id,
    }
}

fn address_input(b: AddressRequest) -> AddressInput {
    AddressInput {
        name: b.name,
        line1: b.line1,
        line2: b.line2,
        city: b.city,
        region: b.region,
        postal_code: b.postal_code,
        country: b.country.0,
        phone: b.phone,
        is_default: b.is_default,
    }
}

fn not_found(e: AccountError) -> AdminError {
    match e {
        AccountError::NotFound => AdminError::NotFound(crate::problem::ProblemJson::not_found(
            "No such address in your address book.",
        )),
        other => other.into(),
    }
}

#[OpenApi(prefix_path = "/api/v1/store/auth", tag = "ApiTags::Account")]
impl AccountApi {
    /// Creates a customer account, logs it in and sends a welcome mail; `cartId` merges an
    /// anonymous cart into it. An address that has an account already gets an answer of the
    /// same shape (about no one) and its owner a mail, so registering tells nobody which
    /// addresses have accounts.
    #[oai(path = "/register", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn register(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<RegisterRequest>,
    ) -> Result<Created<CustomerLogin>, AdminError> {
        let b = body.0;
        let session = customers::register(
            &state.db,
            tenant.0.id,
            Registration {
                email: b.email,
                first_name: b.first_name,
                last_name: b.last_name,
                password: b.password,
            },
            b.cart_id,
        )
        .await?;
        Ok(Created::Created(Json(login_answer(&state, session))))
    }

    /// Logs a customer in (one 401 for a wrong email or password); `cartId` merges an
    /// anonymous cart into theirs.
    #[oai(path = "/login", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn login(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<CustomerLoginRequest>,
    ) -> Result<Json<CustomerLogin>, AdminError> {
        let b = body.0;
        let key = throttle::key(tenant.0.id, "customer", &b.email);
        state.throttles.logins.check(&key)?;
        let login = customers::login(&state.db, tenant.0.id, &b.email, b.password, b.cart_id).await;
        let session = crate::auth::throttled_login(&state, &key, login)?;
        Ok(Json(login_answer(&state, session)))
    }

    /// The logged-in customer.
    #[oai(path = "/me", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn me(&self, auth: CustomerAuth) -> Result<Json<CustomerView>, AdminError> {
        Ok(Json(auth.0.customer.into()))
    }

    /// Changes the names and phone.
    #[oai(path = "/profile", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update_me(
        &self,
        auth: CustomerAuth,
        state: Data<&AppState>,
        body: JsonBody<ProfileRequest>,
    ) -> Result<Json<CustomerView>, AdminError> {
        let b = body.0;
        let customer = customers::update_profile(
            &state.db,
            auth.0.customer,
            &b.first_name,
            &b.last_name,
            b.phone,
        )
        .await?;
        Ok(Json(customer.into()))
    }

    /// Emails a one-hour, single-use reset link if a customer has this address; 202 either way.
    #[oai(path = "/forgot-password", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn forgot_password(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<ForgotRequest>,
    ) -> Result<Accepted, AdminError> {
        let key = throttle::key(tenant.0.id, "customer", &body.0.email);
        state.throttles.resets.check(&key)?;
        state.throttles.resets.spend(&key);
        let customer = resets::Account::Customer;
        resets::ask(&state.db, tenant.0.id, &body.0.email, customer).await?;
        Ok(Accepted::Accepted)
    }

    /// Sets a new password with the token from the reset mail.
    #[oai(path = "/reset-password", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn reset_password(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        body: JsonBody<ResetRequest>,
    ) -> Result<NoContent, AdminError> {
        let b = body.0;
        let customer = resets::Account::Customer;
        resets::reset(
            &state.db,
            tenant.0.id,
            customer,
            &b.token,
            b.new_password,
            "newPassword",
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// The address book, the default first.
    #[oai(path = "/addresses", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn addresses(
        &self,
        auth: CustomerAuth,
        state: Data<&AppState>,
    ) -> Result<Json<AddressList>, AdminError> {
        let list = addresses::list(&state.db, &auth.0.customer).await?;
        Ok(Json(AddressList {
            items: list.into_iter().map(AddressView::from).collect(),
        }))
    }

    /// Adds an address; the first one, or one sent with `isDefault`, becomes the default.
    #[oai(path = "/addresses", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn add_address(
        &self,
        auth: CustomerAuth,
        state: Data<&AppState>,
        body: JsonBody<AddressRequest>,
    ) -> Result<Created<AddressView>, AdminError> {
        let address = addresses::create(&state.db, &auth.0.customer, address_input(body.0)).await?;
        Ok(Created::Created(Json(address.into())))
    }

    /// Replaces an address; `isDefault` makes it the default.
    #[oai(path = "/addresses/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update_address(
        &self,
        auth: CustomerAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<AddressRequest>,
    ) -> Result<Json<AddressView>, AdminError> {
        let address = addresses::update(&state.db, &auth.0.customer, id.0, address_input(body.0))
            .await
            .map_err(not_found)?;
        Ok(Json(address.into()))
    }

    /// Deletes an address; if it was the default, the oldest remaining one takes over.
    #[oai(path = "/addresses/:id", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn delete_address(
        &self,
        auth: CustomerAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<NoContent, AdminError> {
        addresses::delete(&state.db, &auth.0.customer, id.0)
            .await
            .map_err(not_found)?;
        Ok(NoContent::NoContent)
    }
}
