//! Checks the function's signature and generates the registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{ItemFn, LitStr, ReturnType};

use super::attr::Options;
use crate::options::runtime_path;
use crate::schema::{lookup_rule, parse_rule, rule};

/// Everything needed to register the check.
pub(super) struct Model {
    krate: syn::Path,
    name: LitStr,
    timeout: Option<LitStr>,
    kind: Option<LitStr>,
    critical: bool,
}

impl Model {
    pub(super) fn new(options: Options) -> Option<Self> {
        Some(Self {
            krate: runtime_path(options.krate),
            name: options.name?,
            timeout: options.timeout,
            kind: options.kind,
            critical: options.critical.is_none_or(|b| b.value),
        })
    }

    /// `const` items that run the runtime's schema checks at the user's
    /// tokens, and the values they checked. Each rule is an item of its
    /// own, and the value falls back to the default on error, so a broken
    /// rule is one error and not also an "erroneous constant" wherever the
    /// value is used.
    fn checks(&self) -> TokenStream {
        let krate = &self.krate;
        let schema = quote!(#krate::__private::schema);
        let name = &self.name;
        let mut out = rule(name.span(), krate, &quote!(check_health_check_name(#name)));
        out.extend(match &self.timeout {
            None => quote!(const __OBS_TIMEOUT_MS: u64 = #schema::DEFAULT_HEALTH_CHECK_TIMEOUT_MS;),
            Some(timeout) => {
                let rule = parse_rule(
                    timeout.span(),
                    krate,
                    &quote!(parse_health_timeout(#timeout)),
                );
                quote! {
                    #rule
                    const __OBS_TIMEOUT_MS: u64 = match #schema::parse_health_timeout(#timeout) {
                        ::core::result::Result::Ok(ms) => ms,
                        ::core::result::Result::Err(_) => #schema::DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
                    };
                }
            }
        });
        out.extend(match &self.kind {
            None => quote!(const __OBS_KIND: #krate::__private::HealthProbe = #krate::__private::HealthProbe::Readiness;),
            Some(kind) => {
                let rule = lookup_rule(
                    kind.span(),
                    krate,
                    &quote!(health_check_kind(#kind)),
                    "UNKNOWN_HEALTH_KIND",
                );
                quote! {
                    #rule
                    const __OBS_KIND: #krate::__private::HealthProbe = match #schema::health_check_kind(#kind) {
                        ::core::option::Option::Some(kind) => kind,
                        ::core::option::Option::None => #krate::__private::HealthProbe::Readiness,
                    };
                }
            }
        });
        out
    }

    pub(super) fn expand(&self, func: &ItemFn) -> TokenStream {
        let krate = &self.krate;
        let ident = &func.sig.ident;
        let name = &self.name;
        let critical = self.critical;
        let checks = self.checks();
        // The conversion is spanned at the return type, so a type the
        // runner can't read is reported there, with the trait's message.
        let convert = match &func.sig.output {
            ReturnType::Type(_, ty) => {
                let span = syn::spanned::Spanned::span(&**ty);
                quote_spanned! {span=>
                    <#ty as #krate::__private::CheckReturn>::into_outcome(#ident().await)
                }
            }
            ReturnType::Default => {
                quote!(#krate::__private::CheckReturn::into_outcome(#ident().await))
            }
        };
        let at = ident.span();
        let location =
            quote_spanned! {at=> ::core::file!(), line: ::core::line!(), column: ::core::column!()};
        // `async` is what the runner requires, not the user's choice, so a
        // body with nothing to await (a disk check) must not draw
        // `clippy::unused_async`.
        quote! {
            #[allow(clippy::unused_async)]
            #func

            #[doc(hidden)]
            const _: () = {
                #checks

                fn __obs_run() -> #krate::__private::CheckFuture {
                    #krate::__private::boxed_check(async { #convert })
                }

                #[#krate::__private::linkme::distributed_slice(#krate::__private::HEALTH_CHECKS)]
                #[linkme(crate = #krate::__private::linkme)]
                static __OBS_HEALTH_CHECK: #krate::__private::RegisteredCheck =
                    #krate::__private::RegisteredCheck::new(#krate::__private::CheckMeta {
                        name: #name,
                        kind: __OBS_KIND,
                        critical: #critical,
                        timeout_ms: __OBS_TIMEOUT_MS,
                        run: __obs_run,
                        file: #location,
                        module: ::core::module_path!(),
                    });
            };
        }
    }
}
