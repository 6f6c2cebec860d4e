package dev.aireview.runner.demo;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sample repository of the demo: a small shop service (base commit on {@code main}) and a change on
 * {@code feature/cart} with problems a reviewer should find (debug output, a TODO, a hard-coded credential,
 * an over-long line, a missing final newline). The base commit carries the repository's review settings,
 * {@code .ai-review.yml}: the change's maintenance script under {@code scripts/} is excluded (its findings do not
 * appear; the summary lists it) and the payment code gets an instruction (listed for the reviewer; a model
 * follows it).
 */
final class SampleChange {
    static final String BASE_BRANCH = "main";
    static final String BRANCH = "feature/cart";

    private SampleChange() {
    }

    /** Files of the base commit. */
    static Map<String, String> baseFiles() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("README.md", "# shop\n\nA tiny shop service used by the ai-review-runner demo.\n");
        files.put(".ai-review.yml", REVIEW_CONFIG);
        files.put("src/cart.ts", """
                export interface Item {
                  sku: string;
                  price: number;
                  quantity: number;
                }

                export function total(items: Item[]): number {
                  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);
                }
                """);
        files.put("src/main/java/shop/Checkout.java", """
                package shop;

                public final class Checkout {
                    public long charge(long amountCents) {
                        return amountCents;
                    }
                }
                """);
        return files;
    }

    /** The review settings at the base commit (a change cannot alter the settings of its own review). */
    static final String REVIEW_CONFIG = """
            # Review settings of the shop, read at the base commit.
            exclude:
              - "scripts/**"            # one-off maintenance scripts, not worth a review
            instructions:
              - path: "src/main/java/shop/**"
                text: "Amounts are long cents: flag floating-point money arithmetic and any logged credential."
            """;

    /** Files of the change commit (whole contents; files absent here are unchanged). */
    static Map<String, String> changedFiles() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("scripts/seed.py", """
                # TODO: remove after the first import
                print("seeding the demo shop")
                """);
        files.put("src/cart.ts", """
                export interface Item {
                  sku: string;
                  price: number;
                  quantity: number;
                }

                export function total(items: Item[]): number {
                  console.log("computing total for", items.length, "items");
                  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);
                }

                export function applyDiscount(amount: number, code: string): number {
                  // TODO: read discount codes from the database instead of hard-coding them
                  if (code === "WELCOME10") {
                    return amount * 0.9;
                  }
                  return amount;
                }
                """);
        files.put("src/main/java/shop/Checkout.java", """
                package shop;

                public final class Checkout {
                    private static final String PAYMENT_API_PASSWORD = "hunter2-prod-7f3a9c";

                    public long charge(long amountCents) {
                        System.out.println("charging " + amountCents + " with password " + PAYMENT_API_PASSWORD);
                        if (amountCents <= 0) { throw new IllegalArgumentException("amount must be positive, got " + amountCents + " cents; check the cart total computation and the discount code handling before calling charge"); }
                        return amountCents;
                    }
                }""");
        return files;
    }
}
