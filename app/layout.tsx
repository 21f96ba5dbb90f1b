import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers/providers";
import { SiteMenu } from "@/components/layout/site-menu";
import { UserMenu } from "@/components/layout/user-menu";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Flash Sale", template: "%s · Flash Sale" },
  description: "Limited stock, fixed start, fair queue.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <header className="site-header">
            <div className="inner">
              <Link href="/" className="brand">
                ⚡ Flash Sale
              </Link>
              <SiteMenu>
                <nav aria-label="Main">
                  <Link href="/">Sales</Link>
                </nav>
                <UserMenu />
              </SiteMenu>
            </div>
          </header>
          <main>{children}</main>
          <footer className="site-footer">Fair queue · no oversell · every order answered</footer>
        </Providers>
      </body>
    </html>
  );
}
